# Fine-tuning, the way astronomers use Zoobot: pretrain on a large labelled
# survey, then fine-tune on a few labelled galaxies of another one, and
# compare with training from scratch on the same few. BENCHMARKS.md
# ("Fine-tuning from pretrained weights") has the figures; run it with
# `bin/astroformer run jobs/finetune.hcl` (about 10 minutes on two cores).
job "finetune" {
  workdir = "runs/finetune"
  seed    = 7

  # The large survey: 6,000 synthetic cutouts in Galaxy10's class frequencies.
  stage "synthetic" "survey" {
    output = "survey"
    count  = 6000
    size   = 64
  }

  stage "split" "survey_split" {
    input  = "survey"
    output = "survey_split"
    train  = 0.9
    val    = 0.1
    test   = 0
  }

  stage "train" "pretrain" {
    input   = "survey_split"
    output  = "pretrained"
    preset  = "cpu-demo"
    epochs  = 8
    workers = 2
  }

  # The held-out survey: another catalogue seed, every class equally common;
  # 50 labelled cutouts per class to learn from, 150 per class to test on.
  stage "synthetic" "heldout" {
    output        = "heldout"
    seed          = 1001
    count         = 2000
    size          = 64
    class_weights = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
  }

  stage "split" "heldout_split" {
    input  = "heldout"
    output = "heldout_split"
    train  = 0.25
    val    = 0
    test   = 0.75
  }

  # Fine-tuned: the pretrained weights, their normalisation, the stem kept
  # fixed, and learning rates decaying by 0.75 per stage from the head down.
  stage "train" "finetune" {
    input         = "heldout_split"
    output        = "finetuned"
    init_from     = "pretrained"
    normalize     = "checkpoint"
    freeze        = 0
    layer_decay   = 0.75
    lr            = 1e-3
    epochs        = 20
    warmup_epochs = 2
    workers       = 2
  }

  # From scratch: the cpu-demo recipe on the same 500 cutouts for as many epochs.
  stage "train" "scratch" {
    input         = "heldout_split"
    output        = "scratch"
    epochs        = 20
    warmup_epochs = 2
    workers       = 2
  }

  stage "predict" "predict_finetuned" {
    input  = "heldout_split"
    model  = "finetuned"
    output = "catalog_finetuned"
    tta    = 8
  }

  stage "predict" "predict_scratch" {
    input  = "heldout_split"
    model  = "scratch"
    output = "catalog_scratch"
    tta    = 8
  }

  stage "evaluate" "evaluate_finetuned" {
    input  = "catalog_finetuned"
    output = "report_finetuned"
  }

  stage "evaluate" "evaluate_scratch" {
    input  = "catalog_scratch"
    output = "report_scratch"
  }
}
