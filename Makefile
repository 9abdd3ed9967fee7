# Clasifica build, test and development dependencies.
#
#   make run     build and open the app (sets up the runtime and a backbone first)
#   make test    run every test (sets up the test dependencies first)
#
# Development dependencies live in .deps/ (git-ignored) and come from npm:
# ONNX Runtime's shared library from onnxruntime-node, and the offline
# InceptionV3 backbone from nsfwjs.

SHELL := /bin/bash
GO ?= go
DEPS := $(CURDIR)/.deps
ORT_VERSION := 1.30.0
NSFWJS_VERSION := 4.4.0

UNAME_S := $(shell uname -s)
UNAME_M := $(shell uname -m)
ifeq ($(UNAME_S),Darwin)
  ORT_PLATFORM := darwin/$(if $(filter arm64,$(UNAME_M)),arm64,x64)
  ORT_FILE := libonnxruntime.$(ORT_VERSION).dylib
else
  ORT_PLATFORM := linux/$(if $(filter aarch64 arm64,$(UNAME_M)),arm64,x64)
  ORT_FILE := libonnxruntime.so.1
endif
ORT_LIB := $(DEPS)/onnxruntime/$(ORT_FILE)
BACKBONE := $(DEPS)/backbones/nsfwjs-inceptionv3
# The same weights as a Keras .h5 file, to test the HDF5 path end to end.
BACKBONE_H5 := $(DEPS)/backbones/nsfwjs-inceptionv3-h5
BIN := bin/clasifica

export ONNXRUNTIME_LIB := $(ORT_LIB)
export CLASIFICA_TEST_BACKBONE := $(BACKBONE)

.PHONY: all build run test deps test-deps system-deps test-system-deps bench fuzz lint clean screenshots

all: build

build: system-deps
	$(GO) build -o $(BIN) .

# The run command: works offline, where the ImageNet weights cannot be
# downloaded, by setting up the nsfwjs backbone so the app still trains.
run: build deps
	./$(BIN) setup --runtime "$(ORT_LIB)" --offline-backbone "$(BACKBONE)"
	./$(BIN)

# Window tests need a display: use a virtual one when there is none.
XVFB := $(shell [ -z "$$DISPLAY" ] && command -v xvfb-run >/dev/null && echo "xvfb-run -a")

test: test-system-deps test-deps
	$(GO) vet ./...
	$(XVFB) $(GO) test -count=1 -timeout 25m ./...

bench: deps
	$(GO) run . bench --data testdata/photos/flowers --backbone "$(BACKBONE)" --runtime "$(ORT_LIB)"

# Every fuzz target, FUZZTIME each (go test -fuzz takes one at a time).
FUZZTIME ?= 30s
FUZZ_TARGETS := ml/photo:FuzzDecode ml/hdf5:FuzzOpen ml/keras:FuzzReadH5 ml/tfjs:FuzzParse ml/model:FuzzParse ml/dataset:FuzzParsePetLine
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; fn=$${t##*:}; echo "== $$pkg $$fn"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./$$pkg || exit 1; \
	done

deps: $(ORT_LIB) $(BACKBONE)/model.json

test-deps: deps $(BACKBONE_H5)/weights.h5

$(ORT_LIB):
	@mkdir -p $(DEPS)/tmp $(dir $@)
	cd $(DEPS)/tmp && npm pack --silent onnxruntime-node@$(ORT_VERSION) >/dev/null
	tar -xzf $(DEPS)/tmp/onnxruntime-node-$(ORT_VERSION).tgz -C $(DEPS)/tmp package/bin/napi-v6/$(ORT_PLATFORM)/$(ORT_FILE)
	mv $(DEPS)/tmp/package/bin/napi-v6/$(ORT_PLATFORM)/$(ORT_FILE) $@
	rm -rf $(DEPS)/tmp

$(BACKBONE)/model.json: tools/nsfwjs-backbone.js
	@mkdir -p $(DEPS)/tmp
	cd $(DEPS)/tmp && npm pack --silent nsfwjs@$(NSFWJS_VERSION) >/dev/null
	tar -xzf $(DEPS)/tmp/nsfwjs-$(NSFWJS_VERSION).tgz -C $(DEPS)/tmp package/dist/models/inception_v3
	node tools/nsfwjs-backbone.js $(DEPS)/tmp/package $(BACKBONE)
	rm -rf $(DEPS)/tmp

$(BACKBONE_H5)/weights.h5: $(BACKBONE)/model.json tools/keras-h5-from-tfjs.py
	@mkdir -p $(dir $@)
	/usr/bin/python3 tools/keras-h5-from-tfjs.py $(BACKBONE) $@.tmp
	cp $(BACKBONE)/clasifica-backbone.json $(dir $@)
	mv $@.tmp $@

# Fyne needs OpenGL and X11 headers to build on Linux, and the photo loader
# links libjpeg-turbo's static TurboJPEG library (build with -tags
# noturbojpeg to decode every JPEG with Go's decoder instead).
FYNE_APT := libgl1-mesa-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev libturbojpeg0-dev
# The tests also write a Keras .h5 file with h5py.
TEST_APT := python3-h5py python3-numpy
system-deps:
ifeq ($(UNAME_S),Linux)
	@command -v dpkg >/dev/null && sh tools/ensure-apt.sh $(FYNE_APT) || true
endif

test-system-deps:
ifeq ($(UNAME_S),Linux)
	@command -v dpkg >/dev/null && sh tools/ensure-apt.sh $(FYNE_APT) $(TEST_APT) || true
endif

# Pictures of every screen with real data, under Xvfb, for the README.
screenshots: build deps
	tools/screenshots/run.sh

clean:
	rm -rf bin $(DEPS)

# ---------------------------------------------------------------------------
# Packages (see packaging/):
#
#   make dist        the installers this host can build, into dist/ with SHA256SUMS:
#                    on Linux the .deb, the portable .tar.xz and the Windows setup
#                    (cross-built with mingw-w64 and NSIS); on macOS the .dmg
#   make test-dist   install them on clean systems and check they work: the .deb
#                    and the tarball in a fresh Debian 12 root, the setup under Wine
#
# VERSION comes from a VERSION file or `git describe`; it is stamped into the
# program (clasifica --version, Help → About) and every package's metadata.
VERSION ?= $(patsubst v%,%,$(shell cat VERSION 2>/dev/null || git describe --tags --always --dirty 2>/dev/null || echo dev))
# Once, when make starts: every package of one `make dist` has one version.
VERSION := $(VERSION)
DIST ?= $(CURDIR)/dist
DIST_ORT := $(DEPS)/dist/onnxruntime-node-$(ORT_VERSION)
DIST_LDFLAGS := -s -w -X github.com/clasifica/clasifica/internal/version.Version=$(VERSION)
# Labelled photos test-dist trains on and classifies.
DIST_PHOTOS ?= $(CURDIR)/testdata/photos/flowers
# Building the packages: Debian's tools, mingw-w64 and NSIS.
DIST_APT := dpkg-dev lintian xz-utils gcc-mingw-w64-x86-64 nsis
# Testing them: a clean root, Wine (64-bit), a virtual display and screenshots.
TEST_DIST_APT := debootstrap wine wine64 xvfb xauth x11-utils imagemagick
export VERSION DIST DIST_ORT DIST_LDFLAGS DIST_PHOTOS GO

.PHONY: dist dist-linux dist-windows dist-macos dist-system-deps test-dist notices

SHA256SUM := $(if $(filter Darwin,$(UNAME_S)),shasum -a 256,sha256sum)
ifeq ($(UNAME_S),Darwin)
dist: dist-macos
else
dist: dist-linux dist-windows
endif
	cd $(DIST) && rm -f SHA256SUMS && $(SHA256SUM) $$(ls | grep -E '\.(deb|tar\.xz|exe|dmg)$$') > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS
	@cat $(DIST)/SHA256SUMS

dist-linux: system-deps dist-system-deps $(DIST_ORT)/.ok
	packaging/linux/build.sh

dist-windows: dist-system-deps $(DIST_ORT)/.ok
	packaging/windows/build.sh

dist-macos: $(DIST_ORT)/.ok
	packaging/macos/build.sh

dist-system-deps:
ifeq ($(UNAME_S),Linux)
	@command -v dpkg >/dev/null && sh tools/ensure-apt.sh $(DIST_APT) || true
endif

# Every platform's runtime files, as onnxruntime-node ships them.
$(DIST_ORT)/.ok:
	@rm -rf $(DEPS)/dist/tmp $(DIST_ORT) && mkdir -p $(DEPS)/dist/tmp
	cd $(DEPS)/dist/tmp && npm pack --silent onnxruntime-node@$(ORT_VERSION) >/dev/null
	tar -xzf $(DEPS)/dist/tmp/onnxruntime-node-$(ORT_VERSION).tgz -C $(DEPS)/dist/tmp package/bin package/package.json
	mv $(DEPS)/dist/tmp/package $(DIST_ORT) && rm -rf $(DEPS)/dist/tmp
	touch $@

test-dist: dist test-deps
	@command -v dpkg >/dev/null && sh tools/ensure-apt.sh $(TEST_APT) $(TEST_DIST_APT)
	packaging/test/run.sh

# THIRD_PARTY_NOTICES lists every module compiled in: rerun when go.mod changes.
notices:
	packaging/notices.sh
