# Learning from little data, written as the PyTorch reference's recipe
# (shared/reference/torch_train_folder.py): 100 labelled 32x32 images per
# class of ten classes, read from PNG class folders that
# `astroformer-lowdata -size 32 -train 100 -test 1000 -seed 2 -out data/lowdata/syn32`
# writes; scored on the 10,000 test images. scripts/bench-lowdata.sh runs it
# side by side with the reference (BENCHMARKS.md, "Learning from little data").
job "lowdata-syn32" {
  workdir = "runs/lowdata-syn32"
  seed    = 0

  stage "imagefolder" "train_images" {
    path   = "data/lowdata/syn32/train"
    output = "train"
    size   = 32
    split  = "train"
  }

  stage "imagefolder" "test_images" {
    path   = "data/lowdata/syn32/test"
    output = "test"
    size   = 32
    split  = "test"
  }

  # No val split: every labelled image trains, and the last epoch is kept.
  stage "train" "train" {
    input         = "train"
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
    select        = "last"
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

  stage "predict" "predict" {
    input  = "test"
    model  = "model"
    output = "catalog"
  }

  stage "evaluate" "evaluate" {
    input  = "catalog"
    output = "report"
  }
}
