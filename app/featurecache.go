package app

import "github.com/clasifica/clasifica/ml/features"

// FeatureCache describes the feature cache: the backbone's output for
// every photo it has seen, kept so that training again on the same photos
// skips the backbone.
type FeatureCache struct {
	// Dir is the cache's folder.
	Dir string
	// Entries is the number of cached vectors, Bytes their size on disk.
	Entries int
	Bytes   int64
}

// FeatureCacheInfo reports what the feature cache holds.
func (a *App) FeatureCacheInfo() (FeatureCache, error) {
	r, _, err := a.featureCache()
	return r, err
}

// ClearFeatureCache deletes every cached vector. It returns what the cache
// held before; nothing of the user's is lost, as every vector can be
// computed again.
func (a *App) ClearFeatureCache() (FeatureCache, error) {
	r, c, err := a.featureCache()
	if err != nil {
		return r, err
	}
	return r, c.Clear()
}

func (a *App) featureCache() (FeatureCache, *features.Cache, error) {
	r := FeatureCache{Dir: a.Dirs.Features()}
	c, err := features.OpenCache(r.Dir)
	if err != nil {
		return r, nil, err
	}
	r.Entries, r.Bytes, err = c.Stats()
	return r, c, err
}
