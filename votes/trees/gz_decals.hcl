# The Galaxy Zoo DECaLS decision tree (Walmsley et al. 2022, MNRAS 509, 3966):
# each question, its answers, and the question each answer leads to (none:
# the classification ends). Vote-count columns are named
# "<question>_<answer>", as in the GZ DECaLS release.
tree "gz_decals" {
  question "smooth-or-featured" {
    answer "smooth" { next = "how-rounded" }
    answer "featured-or-disk" { next = "disk-edge-on" }
    answer "artifact" {}
  }
  question "disk-edge-on" {
    answer "yes" { next = "edge-on-bulge" }
    answer "no" { next = "has-spiral-arms" }
  }
  question "has-spiral-arms" {
    answer "yes" { next = "spiral-winding" }
    answer "no" { next = "bar" }
  }
  question "bar" {
    answer "strong" { next = "bulge-size" }
    answer "weak" { next = "bulge-size" }
    answer "no" { next = "bulge-size" }
  }
  question "bulge-size" {
    answer "dominant" { next = "merging" }
    answer "large" { next = "merging" }
    answer "moderate" { next = "merging" }
    answer "small" { next = "merging" }
    answer "none" { next = "merging" }
  }
  question "how-rounded" {
    answer "round" { next = "merging" }
    answer "in-between" { next = "merging" }
    answer "cigar-shaped" { next = "merging" }
  }
  question "edge-on-bulge" {
    answer "boxy" { next = "merging" }
    answer "none" { next = "merging" }
    answer "rounded" { next = "merging" }
  }
  question "spiral-winding" {
    answer "tight" { next = "spiral-arm-count" }
    answer "medium" { next = "spiral-arm-count" }
    answer "loose" { next = "spiral-arm-count" }
  }
  question "spiral-arm-count" {
    answer "1" { next = "bar" }
    answer "2" { next = "bar" }
    answer "3" { next = "bar" }
    answer "4" { next = "bar" }
    answer "more-than-4" { next = "bar" }
    answer "cant-tell" { next = "bar" }
  }
  question "merging" {
    answer "none" {}
    answer "minor-disturbance" {}
    answer "major-disturbance" {}
    answer "merger" {}
  }
}
