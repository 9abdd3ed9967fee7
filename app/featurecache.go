package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/clasifica/clasifica/internal/filelock"
	"github.com/clasifica/clasifica/ml/features"
)

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
// computed again. While a training run (in this process or another)
// reads the cache, it refuses, with an error that says so: fine-tuning
// reads the photos' activations from the cache, and would fail after
// minutes of work.
func (a *App) ClearFeatureCache() (FeatureCache, error) {
	r, c, err := a.featureCache()
	if err != nil {
		return r, err
	}
	l, err := filelock.TryLock(a.featureCacheLock())
	if errors.Is(err, filelock.ErrBusy) {
		return r, fmt.Errorf("the feature cache is not cleared: a training run is reading it (%w); clear it once the training has finished", err)
	}
	if err != nil {
		return r, err
	}
	defer l.Unlock()
	return r, c.Clear()
}

// featureCacheLock is the lock file that marks the feature cache in use:
// beside its folder, not in it, as clearing empties the folder and lock
// files are never deleted (see filelock).
func (a *App) featureCacheLock() string { return lockPath(a.Dirs.Features()) }

// useFeatureCache marks the feature cache in use until the lock it
// returns is released, so that it is not cleared meanwhile; it waits for
// a clearing in progress (a.lockWait at most).
func (a *App) useFeatureCache(ctx context.Context) (*filelock.Lock, error) {
	return shareFile(ctx, a.Dirs.Features(), a.lockWait, "clearing the feature cache")
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
