# Stage blocks whose params (without the inputs digest) TestParamsStable
# compares with params.golden: a change to either is a change of the
# fingerprints of existing jobs.
stage "synthetic" "synthetic_defaults" {
  output = "a"
}
stage "synthetic" "synthetic_all" {
  output        = "b"
  rejects       = "b_r"
  count         = 10
  size          = 32
  seed          = 5
  class_weights = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
  labelled      = false
  workers       = 3
}
stage "cifar100" "cifar_defaults" {
  path   = "testdata/none"
  output = "c"
}
stage "cifar100" "cifar_all" {
  path        = "testdata/none"
  output      = "c"
  rejects     = "r"
  max_rejects = 4
  labels      = "coarse"
  train_split = "train"
  limit       = 7
  size        = 16
  workers     = 2
}
stage "galaxy10" "galaxy10_defaults" {
  path   = "testdata/none.h5"
  output = "c"
}
stage "galaxy10" "galaxy10_all" {
  path        = "testdata/none.h5"
  output      = "c"
  rejects     = "r"
  max_rejects = 4
  limit       = 7
  size        = 64
  workers     = 2
}
stage "tinyimagenet" "tinyimagenet_defaults" {
  path   = "testdata/none"
  output = "c"
}
stage "tinyimagenet" "tinyimagenet_all" {
  path        = "testdata/none"
  output      = "c"
  rejects     = "r"
  max_rejects = 3
  train_split = "train"
  size        = 32
  workers     = 1
}
stage "imagefolder" "imagefolder_defaults" {
  path   = "testdata/none"
  output = "c"
}
stage "imagefolder" "imagefolder_all" {
  path        = "testdata/none"
  output      = "c"
  rejects     = "r"
  max_rejects = 3
  labels      = "none"
  extensions  = [".png"]
  size        = 32
  split       = "test"
  bands       = "grz"
  pixel_scale = 0.262
  survey      = "DECaLS"
  release     = "DR10"
  workers     = 2
}
stage "fits" "fits_defaults" {
  path   = "testdata/none"
  output = "c"
}
stage "fits" "fits_all" {
  path        = "testdata/none"
  output      = "c"
  rejects     = "r"
  max_rejects = 2
  bands       = "grz"
  size        = 64
  keep_raw    = true
  rgb_scales  = { g = [1, 5.0], q = [0, 2] }
  rgb_m       = 0.05
  rgb_q       = 10
  split       = "val"
  pixel_scale = 0.5
  survey      = "S"
  release     = "R"
  workers     = 2
  memory      = "1GiB"
}
stage "split" "split_defaults" {
  input  = "a"
  output = "b"
}
stage "split" "split_all" {
  input         = "a"
  output        = "b"
  train         = 0.7
  val           = 0.2
  test          = 0.1
  seed          = 4
  keep_existing = false
}
stage "train" "train_defaults" {
  input  = "a"
  output = "m"
}
stage "train" "train_all" {
  input       = "a"
  output      = "m"
  metrics     = "mm"
  preset      = "galaxy10"
  seed        = 3
  variant     = "astroformer_nano"
  image_size  = 64
  epochs      = 9
  batch_size  = 16
  lr          = 0.001
  betas       = [0.8, 0.99]
  freeze      = 2
  init_from   = "m0"
  layer_decay = 0.7
  select      = "best"
  workers     = 1
  policy {
    mixup_alpha = 0.2
  }
}
stage "predict" "predict_defaults" {
  input  = "a"
  output = "c"
  model  = "m"
}
stage "predict" "predict_all" {
  input         = "a"
  output        = "c"
  model         = "m"
  checkpoint    = "best.safetensors"
  tta           = 8
  crop_pct      = 0.875
  class_names   = ["x", "y"]
  healpix_order = 3
  rows_per_part = 100
  embeddings    = true
  format        = ["csv", "fits"]
  batch_size    = 4
  workers       = 1
}
stage "evaluate" "evaluate_defaults" {
  input  = "c"
  output = "r"
}
stage "evaluate" "evaluate_all" {
  input          = "c"
  output         = "r"
  metrics        = "m"
  metrics_output = "rm"
  split          = "val"
  top_k          = 5
  bootstrap      = 10
  bins           = 7
  seed           = 2
  cutouts        = "cs"
  gallery        = 2
}
