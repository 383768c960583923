# A longer CPU training run on the synthetic survey, aimed at >= 90% val top-1.
# Run it with `bin/astroformer run jobs/synthetic-long.hcl`; Ctrl-C and rerun to resume.
#
# 8,000 cutouts (6,400 train) x 25 epochs of astroformer_nano: 160,000 training
# images, 102 CPU-minutes (about 50 minutes on two idle cores). Measured: best val
# top-1 87.8% (epoch 19), final 87.4%, EMA 87.2%; the curve flattens from epoch 18,
# so 90% needs more capacity (variant = "astroformer_micro") or more data, not more
# epochs. docs/training.md explains every setting.
job "synthetic-long" {
  workdir = "runs/synthetic-long"
  seed    = 7

  stage "synthetic" "survey" {
    output = "cutouts"
    count  = 8000
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
    variant          = "astroformer_nano"
    image_size       = 64
    epochs           = 25
    batch_size       = 32
    lr               = 4e-3
    warmup_epochs    = 2
    min_lr           = 1e-5
    drop_path        = 0.05
    ema              = true
    ema_decay        = 0.999
    patience         = 6
    checkpoint_steps = 100
    workers          = 2

    policy {
      crop_scale = [0.5, 1]
    }
  }
}
