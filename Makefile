# The two set-up-to-result commands (see README.md):
#   make run    installs what is missing, builds, trains the federated
#               vancomycin policy on 4 sites (at most 2.5 % of each site's
#               patients with a toxic trough or left untreated, measured on
#               the greedy policy, by one Lagrange multiplier per site; 5 %
#               of the training patients are edge patients) and prints its
#               evaluation
#   make test   installs what is missing (with the Python reference
#               packages) and runs the whole test suite

SWIFT ?= swift
CHECKPOINT ?= Checkpoints/vancomycin-4site.h5

.PHONY: run test setup build bench clean

setup:
	bash scripts/setup.sh

build: setup
	$(SWIFT) build -c release

run: build
	.build/release/titrate train --environment vancomycin --sites 4 --rounds 1500 --overwrite \
	  --cost-limit 0.025 --per-site-limit --constrain-greedy-policy --weight-by-multiplier \
	  --advantage-scaled-weights --greedy-cost-without-edge-patients --log-cost-error \
	  --multiplier-learning-rate 0.1 --proportional-gain 2 --monotone-policy --edge-patients 0.05 \
	  --output $(CHECKPOINT)
	.build/release/titrate evaluate $(CHECKPOINT) --patients 5000

test:
	bash scripts/setup.sh --python
	$(SWIFT) test

# Speed figures for Docs/benchmarks.md: the portable build and one compiled
# for AVX2/FMA (Haswell and later x86-64), on the environment without the
# MAP features so that the NumPy and PyTorch references compute the same.
bench: build
	TITRATE_TARGET_CPU=haswell $(SWIFT) build -c release --scratch-path .build-haswell
	python3 -c "import json; d = json.load(open('Environments/vancomycin.json')); \
	  d.pop('bayesianEstimate'); d['baselines'].pop('bayesian'); d['safety']['shield'] = None; json.dump(d, open('.build/vancomycin-plain.json', 'w'))"
	for binary in .build/release/titrate .build-haswell/release/titrate; do \
	  for threads in 1 2; do \
	    $$binary bench --environment .build/vancomycin-plain.json --threads $$threads; \
	  done; \
	done

clean:
	rm -rf .build .build-haswell
