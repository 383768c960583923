package synthetic

// Class is a Galaxy10 DECaLS morphology class; its value is the label index
// (schemas.Galaxy10Classes gives the names in the same order).
type Class int

// The ten classes, in label order.
const (
	Disturbed Class = iota
	Merging
	RoundSmooth
	InBetweenRoundSmooth
	CigarShapedSmooth
	BarredSpiral
	UnbarredTightSpiral
	UnbarredLooseSpiral
	EdgeOnWithoutBulge
	EdgeOnWithBulge
)

// NumClasses is the number of classes.
const NumClasses = 10

// Galaxy10Counts returns the number of images of each class in Galaxy10
// DECaLS (17,736 in all), the default class weights.
func Galaxy10Counts() []float64 {
	return []float64{1081, 1853, 2645, 2027, 334, 2043, 1829, 2628, 1423, 1873}
}
