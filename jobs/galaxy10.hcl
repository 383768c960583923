# Astroformer on Galaxy10 DECaLS with the published recipe (arXiv 2304.05350):
# astroformer_0 at 256x256, AdamW lr 2e-5 at a global batch of 256, cosine with
# 5 warmup epochs from 1e-5, 300 epochs, Mixup 0.8, label smoothing 0.1, dropout 0.1
# (preset "galaxy10"; docs/training.md lists every default).
#
# Fetch the data first (2.54 GB from Zenodo, resumable, SHA-256 checked), then run the job;
# Ctrl-C and rerun to resume:
#
#   bin/astroformer fetch galaxy10 --dir data
#   bin/astroformer run jobs/galaxy10.hcl
#
# The published run needs accelerators: 300 epochs of astroformer_0 at 256x256 are
# months of CPU time. For a CPU, use the scaled alternative at the end of this file.
job "galaxy10" {
  workdir = "runs/galaxy10"
  seed    = 42

  stage "galaxy10" "galaxy10" {
    path   = "data/Galaxy10_DECals.h5"
    output = "cutouts"
    # size = 64   # the CPU alternative: area-average the cutouts to 64x64
  }

  # train 0.8, val 0.1, test 0.1 of each class: the split stage's defaults.
  stage "split" "split" {
    input  = "cutouts"
    output = "cutouts_split"
  }

  stage "train" "train" {
    input   = "cutouts_split"
    output  = "model"
    metrics = "train_metrics"
    preset  = "galaxy10"
    variant = "astroformer_0"

    # The global batch is batch_size x accumulate; lr 2e-5 is the rate at a global
    # batch of 256 (lr_base_batch), scaled by timm's sqrt rule for other batches.
    batch_size       = 256
    accumulate       = 1
    checkpoint_steps = 200
    workers          = 8
  }

  # The CPU alternative: with size = 64 in the galaxy10 stage above, replace the
  # train stage with this one. astroformer_micro at 64x64 for 40 epochs keeps the
  # published augmentations and regularisation (Mixup 0.8, label smoothing 0.1,
  # dropout 0.1) with a learning rate and clipping suited to training a small
  # model from scratch, and EMA weights: about 570,000 training images, a day on
  # two cores.
  #
  # stage "train" "train" {
  #   input            = "cutouts_split"
  #   output           = "model"
  #   metrics          = "train_metrics"
  #   preset           = "galaxy10"
  #   variant          = "astroformer_micro"
  #   image_size       = 64
  #   epochs           = 40
  #   batch_size       = 64
  #   lr               = 1e-3
  #   lr_base_batch    = 0
  #   warmup_epochs    = 3
  #   min_lr           = 1e-5
  #   weight_decay     = 0.05
  #   clip_grad        = 1
  #   drop_path        = 0.1
  #   ema              = true
  #   ema_decay        = 0.999
  #   normalize        = "dataset"
  #   shuffle_window   = 8192
  #   eval_batch_size  = 128
  #   checkpoint_steps = 200
  #   workers          = 2
  #
  #   policy {
  #     crop_pct = 1
  #   }
  # }
}
