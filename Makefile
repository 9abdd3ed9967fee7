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
BIN := bin/clasifica

export ONNXRUNTIME_LIB := $(ORT_LIB)
export CLASIFICA_TEST_BACKBONE := $(BACKBONE)

.PHONY: all build run test deps system-deps bench fuzz lint clean screenshots

all: build

build: system-deps
	$(GO) build -o $(BIN) .

# The run command: works offline, where the ImageNet weights cannot be
# downloaded, by setting up the nsfwjs backbone so the app still trains.
run: build deps
	./$(BIN) setup --runtime "$(ORT_LIB)" --offline-backbone "$(BACKBONE)"
	./$(BIN)

test: system-deps deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

bench: deps
	$(GO) run . bench --data ../shared/data/flowers-sample --backbone "$(BACKBONE)" --runtime "$(ORT_LIB)"

deps: $(ORT_LIB) $(BACKBONE)/model.json

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

# Fyne needs OpenGL and X11 headers to build on Linux.
FYNE_APT := libgl1-mesa-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
system-deps:
ifeq ($(UNAME_S),Linux)
	@missing=$$(for p in $(FYNE_APT); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "Install the packages Fyne needs: sudo apt-get install $$missing" >&2; exit 1; fi; \
	fi
endif

clean:
	rm -rf bin $(DEPS)
