# The main job of the README: a synthetic survey release, end to end.
# Run it with `make demo` (or `bin/astroformer run jobs/demo.hcl`); rerunning skips what is done,
# and a killed run resumes.
job "demo" {
  workdir = "runs/demo"
  seed    = 42

  # Renders Galaxy10-like 64x64 colour cutouts of the ten Galaxy10 DECals classes,
  # in Galaxy10's class frequencies.
  stage "synthetic" "survey" {
    output = "cutouts"
    count  = 3000
    size   = 64
  }

  # Stratified, seeded train/val/test split; an object's split follows from its object_id.
  stage "split" "split" {
    input  = "cutouts"
    output = "cutouts_split"
    train  = 0.8
    val    = 0.1
    test   = 0.1
  }

  # Trains the default CPU variant with the cpu-demo preset (crops, flips, quarter turns, smoothing).
  stage "train" "train" {
    input   = "cutouts_split"
    output  = "model"
    metrics = "train_metrics"
    preset  = "cpu-demo"
    variant = "astroformer_nano"
    epochs  = 6
    workers = 2
  }

  # Predicts every cutout with 8-fold test-time augmentation into a catalog table,
  # plus a HEALPix-partitioned (HATS-style) copy and FITS and VOTable copies.
  stage "predict" "predict" {
    input         = "cutouts_split"
    model         = "model"
    output        = "catalog"
    tta           = 8
    healpix_order = 4
    format        = ["fits", "votable"]
  }

  # Scores the test split: top-1 with a bootstrap interval, per-class F1, calibration,
  # and a Markdown + HTML report with plots, a gallery of cutouts (pixels from the table
  # the catalog was predicted from) and a sky map.
  stage "evaluate" "evaluate" {
    input   = "catalog"
    metrics = "train_metrics"
    cutouts = "cutouts_split"
    output  = "report"
  }
}
