# The main job of the README: a synthetic survey release, end to end.
# Run it with `make demo` (or `bin/astroformer run jobs/demo.hcl`).
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
}
