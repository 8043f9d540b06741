# The two set-up-to-result commands (see README.md):
#   make run    installs what is missing, builds, trains the federated
#               vancomycin policy on 4 sites and prints its evaluation
#   make test   installs what is missing (with the Python reference
#               packages) and runs the whole test suite

SWIFT ?= swift
CHECKPOINT ?= Checkpoints/vancomycin-4site.h5

.PHONY: run test setup build release bench clean

setup:
	bash scripts/setup.sh

build: setup
	$(SWIFT) build -c release

run: build
	.build/release/titrate train --environment vancomycin --sites 4 \
	  --output $(CHECKPOINT)
	.build/release/titrate evaluate $(CHECKPOINT) --patients 5000

test:
	bash scripts/setup.sh --python
	$(SWIFT) build -c release --product titrate
	$(SWIFT) test

bench: build
	.build/release/titrate bench

clean:
	rm -rf .build
