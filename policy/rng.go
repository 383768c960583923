package policy

import "math/rand/v2"

// Stream domains keep the random streams of different consumers apart even
// for equal (seed, epoch, index).
const (
	domainSample uint64 = iota + 1
	domainBatch
	domainSampler
	domainShuffle
)

// SampleRand returns the random stream for augmenting sample index of epoch
// under seed. Equal arguments give equal streams, in any goroutine, and
// neighbouring arguments give unrelated ones.
func SampleRand(seed int64, epoch, index int) *rand.Rand {
	return stream(seed, domainSample, epoch, index)
}

// BatchRand returns the random stream for mixing batch number batch of
// epoch under seed; it is independent of every SampleRand stream.
func BatchRand(seed int64, epoch, batch int) *rand.Rand {
	return stream(seed, domainBatch, epoch, batch)
}

func stream(seed int64, domain uint64, epoch, index int) *rand.Rand {
	s1 := splitmix(splitmix(uint64(seed)) ^ domain)
	s2 := splitmix(splitmix(uint64(epoch)^domain<<56) ^ uint64(index))
	return rand.New(rand.NewPCG(s1, s2))
}

// splitmix is the SplitMix64 finaliser: a bijective, well-mixing hash.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// EpochPermutation returns a permutation of 0..n-1 for epoch under seed:
// the sample order of an epoch without class balancing.
func EpochPermutation(seed int64, epoch, n int) []int {
	return stream(seed, domainShuffle, epoch, 0).Perm(n)
}
