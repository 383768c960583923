# A longer CPU training run on the synthetic survey, aimed at >= 90% val top-1.
# Run it with `bin/astroformer run jobs/synthetic-long.hcl`; Ctrl-C and rerun to resume.
#
# 12,000 cutouts (9,600 train) x 30 epochs of astroformer_micro: about 290,000
# training images, an hour or more on two cores. See docs/training.md.
job "synthetic-long" {
  workdir = "runs/synthetic-long"
  seed    = 7

  stage "synthetic" "survey" {
    output = "cutouts"
    count  = 12000
    size   = 64
  }

  stage "split" "split" {
    input  = "cutouts"
    output = "cutouts_split"
    train  = 0.8
    val    = 0.1
    test   = 0.1
  }

  stage "train" "train" {
    input            = "cutouts_split"
    output           = "model"
    metrics          = "train_metrics"
    preset           = "cpu-demo"
    variant          = "astroformer_micro"
    image_size       = 64
    epochs           = 30
    batch_size       = 64
    lr               = 2e-3
    warmup_epochs    = 2
    min_lr           = 1e-5
    drop_path        = 0.1
    ema              = true
    ema_decay        = 0.999
    patience         = 8
    checkpoint_steps = 100
    workers          = 2

    policy {
      crop_scale     = [0.5, 1]
      rotate_degrees = 15
      mixup_alpha    = 0.2
    }
  }
}
