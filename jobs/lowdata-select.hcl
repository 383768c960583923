# Model selection on little data: the lowdata-syn32 task with 5% of its
# 1,000 labelled images held out as a val split (50 images), training with
# select = "best", and both checkpoints scored on the 10,000 test images.
# It is the evidence for select's default ("last"); see BENCHMARKS.md,
# "Learning from little data".
job "lowdata-select" {
  workdir = "runs/lowdata-select"
  seed    = 0

  stage "imagefolder" "train_images" {
    path   = "data/lowdata/syn32/train"
    output = "train"
    size   = 32
    split  = ""
  }

  # 5% val, as a user with 1,000 labelled images might hold out.
  stage "split" "split" {
    input  = "train"
    output = "train_split"
    train  = 0.95
    val    = 0.05
    test   = 0
  }

  stage "imagefolder" "test_images" {
    path   = "data/lowdata/syn32/test"
    output = "test"
    size   = 32
    split  = "test"
  }

  stage "train" "train" {
    input         = "train_split"
    output        = "model"
    variant       = "astroformer_nano"
    image_size    = 32
    epochs        = 60
    batch_size    = 64
    drop_last     = false # the reference trains the incomplete last batch too
    lr            = 1e-3
    warmup_epochs = 5
    warmup_prefix = true # the reference's cosine starts after the warmup
    min_lr        = 0
    weight_decay  = 0.05
    clip_grad     = 0
    dropout       = 0.1
    normalize     = "policy"
    select        = "best"
    init          = "torch" # PyTorch's default initialisation, as the reference's
    workers       = 2
    policy {
      random_crop     = false # the reference translates by 2 pixels and mirrors left-right, nothing else
                              # (it draws one translation per batch, we draw one per image, as timm does)
      translate       = 2
      hflip           = 0.5
      vflip           = 0
      rot90           = false
      mixup_alpha     = 0.8
      mix_partner     = "permute" # the reference mixes with a random permutation (the default)
      label_smoothing = 0.1
      mean            = [0.5]
      std             = [0.5]
    }
  }

  stage "predict" "predict_best" {
    input      = "test"
    model      = "model"
    checkpoint = "best"
    output     = "catalog_best"
  }

  stage "predict" "predict_last" {
    input      = "test"
    model      = "model"
    checkpoint = "model"
    output     = "catalog_last"
  }

  stage "evaluate" "evaluate_best" {
    input  = "catalog_best"
    output = "report_best"
  }

  stage "evaluate" "evaluate_last" {
    input  = "catalog_last"
    output = "report_last"
  }
}
