package catalog

import "github.com/astroformer/astroformer/schemas"

// Keys of the key-value metadata of a catalog table, stored in the footer of
// every Parquet part and in the manifest's Metadata. The software version is
// the table package's astroformer.producer key.
const (
	MetaClassNames       = schemas.MetaClassNames          // JSON list of the class names, in model output order
	MetaModelVariant     = "astroformer.model_variant"     // e.g. "astroformer_nano"
	MetaCheckpoint       = "astroformer.checkpoint"        // checkpoint file as given, e.g. "runs/demo/model/best.safetensors"
	MetaCheckpointSHA256 = "astroformer.checkpoint_sha256" // hex SHA-256 of the checkpoint file
	MetaImageSize        = "astroformer.image_size"        // model input, "<height>x<width>"
	MetaInChans          = "astroformer.in_chans"          // model input channels
	MetaNormalize        = "astroformer.normalize"         // JSON {"mean": [...], "std": [...]} applied to [0,1] pixels
	MetaCropPct          = "astroformer.crop_pct"          // fraction kept by the evaluation centre crop
	MetaTTAViews         = "astroformer.tta_views"         // dihedral views averaged per cutout, 1..8
	MetaInput            = "astroformer.input"             // the cutouts table predicted on
	MetaInputFingerprint = "astroformer.input_fingerprint" // its manifest fingerprint
	MetaJob              = "astroformer.job"               // job name, or "cli" for the predict command
	MetaCreated          = "astroformer.created"           // RFC 3339 UTC time the prediction started
	MetaHEALPixOrder     = "astroformer.healpix_order"     // order of the HATS partitioning requested, when any
	MetaShard            = "astroformer.shard"             // "<index>/<count>", in the parts of a shard
	MetaShards           = "astroformer.shards"            // number of shards a merged table was made of
)
