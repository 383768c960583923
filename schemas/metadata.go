package schemas

// Keys of the key-value metadata of tables: the Parquet key-value metadata
// of every part and the manifest's Metadata. Every "astroformer." key is
// defined here, once; the packages that write one refer to it (and some
// export it again under their own name, such as catalog.MetaClassNames).
// Stage kinds add keys of their own, prefixed with the kind ("fits.rgb").

// MetaClassNames is the key of the class names as a JSON list of strings,
// in label order: the order of the label column of a cutouts table and of
// the model's outputs in a catalog. Labelled cutouts tables, catalogs,
// evaluation metrics and model folders carry it.
const MetaClassNames = "astroformer.class_names"

// Keys the table package writes in every part.
const (
	MetaSchemaVersion = "astroformer.schema_version" // Version
	MetaProducer      = "astroformer.producer"       // astroformer version
	MetaStage         = "astroformer.stage"          // stage that wrote the table
	MetaParams        = "astroformer.params"         // its parameters, JSON
)

// Keys of a catalog table, written by prediction and the merge of shards.
// The software version is MetaProducer.
const (
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

// Keys of the manifest of a HATS catalog folder.
const (
	MetaHATSPartitions   = "astroformer.hats.partitions"        // number of partition files
	MetaHATSUnpositioned = "astroformer.hats.unpositioned_rows" // rows without a position
)
