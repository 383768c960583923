package catalog

import "github.com/astroformer/astroformer/schemas"

// Keys of the key-value metadata of a catalog table, stored in the footer of
// every Parquet part and in the manifest's Metadata; schemas defines them
// and says what each holds. The software version is schemas.MetaProducer.
const (
	MetaClassNames       = schemas.MetaClassNames
	MetaModelVariant     = schemas.MetaModelVariant
	MetaCheckpoint       = schemas.MetaCheckpoint
	MetaCheckpointSHA256 = schemas.MetaCheckpointSHA256
	MetaImageSize        = schemas.MetaImageSize
	MetaInChans          = schemas.MetaInChans
	MetaNormalize        = schemas.MetaNormalize
	MetaCropPct          = schemas.MetaCropPct
	MetaTTAViews         = schemas.MetaTTAViews
	MetaInput            = schemas.MetaInput
	MetaInputFingerprint = schemas.MetaInputFingerprint
	MetaJob              = schemas.MetaJob
	MetaCreated          = schemas.MetaCreated
	MetaHEALPixOrder     = schemas.MetaHEALPixOrder
	MetaShard            = schemas.MetaShard
	MetaShards           = schemas.MetaShards
)
