# A minimal job for the tests of package jobs.
job "demo" {
  workdir = "runs/demo"
  seed    = 42

  stage "split" "split" {
    input  = "cutouts"
    output = "cutouts_split"
  }
  stage "synthetic" "survey" {
    output = "cutouts"
    count  = 3000
  }
}
