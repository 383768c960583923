package schemas

// MetaClassNames is the table metadata key (the Parquet key-value metadata
// of every part and the manifest's Metadata) of the class names as a JSON
// list of strings, in label order: the order of the label column of a
// cutouts table and of the model's outputs in a catalog. Labelled cutouts
// tables, catalogs, evaluation metrics and model folders carry it.
const MetaClassNames = "astroformer.class_names"
