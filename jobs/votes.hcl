# Galaxy Zoo vote fractions on the synthetic survey, end to end: simulated
# volunteers, a vote head trained from scratch and one fine-tuned from a
# classification model, and vote-fraction catalogs (f_<question>_<answer>
# with 90% intervals). About ten minutes on two cores:
# `bin/astroformer run jobs/votes.hcl`. See docs/votes.md.
job "votes" {
  workdir = "runs/votes"
  seed    = 11

  stage "synthetic" "survey" {
    output = "cutouts"
    count  = 3000
    size   = 64
    votes  = true # about 40 simulated GZ DECaLS volunteers per galaxy
  }

  # train 0.8, val 0.1, test 0.1 of each class: the split stage's defaults.
  stage "split" "split" {
    input  = "cutouts"
    output = "cutouts_split"
  }

  # The classification model the fine-tuned vote head starts from.
  stage "train" "classifier" {
    input   = "cutouts_split"
    output  = "classifier"
    epochs  = 6
    workers = 2
  }

  stage "train" "votes_scratch" {
    input   = "cutouts_split"
    output  = "votes_scratch"
    task    = "votes"
    epochs  = 6
    workers = 2
  }

  # The same, from the classifier's weights (its 10-class head is replaced
  # by the 34 answers of the tree) and normalisation.
  stage "train" "votes_finetuned" {
    input       = "cutouts_split"
    output      = "votes_finetuned"
    task        = "votes"
    init_from   = "classifier"
    normalize   = "checkpoint"
    layer_decay = 0.75
    lr          = 2e-3
    epochs      = 6
    workers     = 2
  }

  stage "predict" "predict" {
    input  = "cutouts_split"
    model  = "votes_finetuned"
    output = "vote_catalog"
    tta    = 4
    format = ["fits", "votable"]
  }

  # Per question: the vote-weighted error of the fractions, their
  # calibration, and the majority answer where volunteers agree (> 0.8).
  stage "evaluate" "evaluate" {
    input   = "vote_catalog"
    cutouts = "cutouts_split"
    output  = "vote_report"
  }
}
