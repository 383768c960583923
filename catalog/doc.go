// Package catalog holds what turns prediction output into a survey catalog:
// HEALPix nested pixel indexing (Ang2Pix, Pix2Ang), the HATS-style
// partitioned layout read by LSDB and pyarrow (WriteHATS), and the merging
// of the shards of a prediction run split over many machines (Shard, Merge).
package catalog
