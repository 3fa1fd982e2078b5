# fwctl: `make run` is the main job on a fresh machine, `make test` the whole test suite.
# Both install what they need first (missing Debian packages only; as root, else they print the command).

SWIFT        ?= swift
CONFIG       ?= release
BUILD_DIR    := .build/$(CONFIG)
FWCTL        := $(BUILD_DIR)/fwctl
INVENTORY    ?= inventory/example
OUT          ?= out

# Build and run: libssh2 headers, pkg-config to find them.
DEB_BUILD    := pkg-config libssh2-1-dev
# Integration tests: a real sshd, real netfilter, real ufw, namespaces, relays.
DEB_TEST     := openssh-server openssh-client sudo openssl iptables nftables ipset ufw iproute2 iputils-ping socat python3-venv
# Benchmarks: the tools fwctl is compared with.
DEB_BENCH    := pssh iperf3 hyperfine time bc xxd

# Python reference tools the tests and benchmarks compare fwctl with (into the git-ignored .venv).
PY_ANSIBLE   := ansible-core==2.19.14
PY_TEMPLATE  := Jinja2==3.1.6 chevron==0.14.0
PY_AERLEON   := aerleon==1.18.0

.PHONY: all deps deps-test deps-bench venv-test build install install-built run test bench bench-template bench-template-e2e \
	bench-inventory bench-render bench-ssh bench-jump bench-lab bench-deploy bench-tunnel fuzz fuzz-template fuzz-inventory \
	fuzz-policy clean

all: build

deps:
	@scripts/ensure-deps $(DEB_BUILD)

deps-test: deps
	@scripts/ensure-deps $(DEB_TEST)

deps-bench: deps-test
	@scripts/ensure-deps $(DEB_BENCH)

venv-test: deps-test
	@scripts/ensure-venv $(PY_ANSIBLE)

# Statically linked Swift runtime and Foundation: the binary runs where no Swift is installed (make install), and
# starts in half the instructions (no dynamic symbol binding of libFoundation).
SWIFT_BUILD_FLAGS ?= --static-swift-stdlib

build: deps
	$(SWIFT) build -c $(CONFIG) $(SWIFT_BUILD_FLAGS) --product fwctl

# `make install PREFIX=/usr/local` (DESTDIR for packaging): the executables, the templates under
# share/fwctl/templates, man pages and bash/zsh/fish completions (scripts/install). PROGRAMS lists every executable
# product.
PREFIX       ?= /usr/local
DESTDIR      ?=
PROGRAMS     := fwctl fwtunnel-home fwtunnel-work
INSTALL_FROM ?= $(BUILD_DIR)

install: deps
	for product in $(PROGRAMS) generate-manual; do \
		$(SWIFT) build -c $(CONFIG) $(SWIFT_BUILD_FLAGS) --product $$product || exit 1; \
	done
	$(MAKE) install-built

# Installs what is already built in INSTALL_FROM (the tests install a debug build into a temporary prefix).
install-built:
	PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) scripts/install $(INSTALL_FROM) $(INSTALL_FROM)/generate-manual $(PROGRAMS)

# The whole product on one machine: render the inventory, bring it up as a lab of namespace hosts (controller at an
# office address), `fwctl deploy --all` through the bastions with sudo (twice: the second changes nothing) and probe
# who reaches whom against the policy (as root; otherwise it renders and prints the rest). KEEP_LAB=1 keeps the lab.
LAB          ?= fwctl
run: build deps-test
	scripts/lab-demo $(FWCTL) $(INVENTORY) $(OUT) $(LAB)

# The summary at the end lists every test that was skipped or cancelled, with the reason.
test: deps-test venv-test
	$(SWIFT) build --build-tests
	$(SWIFT) build --product generate-manual   # InstallTests installs the debug build with its man page
	scripts/run-tests

bench: deps-bench build bench-template bench-template-e2e bench-inventory bench-render bench-ssh bench-jump bench-lab bench-deploy \
	bench-tunnel

# The template engine against swift-mustache (Swift), Jinja2 and chevron (Python) on the same rule template.
BENCH_TEMPLATE_OUT := .build/bench-template
bench-template: deps-bench
	@scripts/ensure-venv $(PY_TEMPLATE)
	$(SWIFT) build --package-path Benchmarks -c release --product TemplateBench
	Benchmarks/.build/release/TemplateBench Benchmarks/template $(BENCH_TEMPLATE_OUT)
	.venv/bin/python Benchmarks/template/bench_jinja2.py Benchmarks/template $(BENCH_TEMPLATE_OUT)

# `fwctl template render` as a whole process (0.9 MB JSON data in, 5.5 MB of iptables rules out) against Python
# with Jinja2 rendering the same rules from the same file, outputs checked byte-identical first.
bench-template-e2e: deps-bench build
	@scripts/ensure-venv $(PY_TEMPLATE)
	scripts/bench-template-e2e $(FWCTL)

# SSH: 100 x (connect + auth + `true`) against a loopback sshd the script starts, at parallelism 1 and 32:
# fwctl ping against OpenSSH's ssh (loop / xargs -P 32) and parallel-ssh. Needs root (it runs sshd).
bench-ssh: deps-bench build
	Benchmarks/ssh/run.sh $(FWCTL) .build/bench-ssh

# The lab: up of 50 and 200 generated hosts (every sshd answering; wall time, memory), down of 200, the probe of 50
# hosts x 3 ports; against a shell script doing the same with ip/ssh-keygen/sshd and socat per connect. Needs root.
bench-lab: deps-bench build
	Benchmarks/lab/run.sh $(FWCTL) .build/bench-lab

# Deploy to HOSTS (default 50) namespace hosts with their own sshd: fwctl deploy (first, then unchanged) against
# ansible-playbook doing the same work (forks=50, pipelining), wall times, ratio and fwctl's per-step breakdown.
# Needs root (namespaces, sshd). HOSTS=200 shows how the cost grows.
bench-deploy: deps-bench build
	@scripts/ensure-venv $(PY_ANSIBLE)
	Benchmarks/deploy/run.sh $(FWCTL) .build/bench-deploy

# Jump hosts: fwctl ping of 100 hosts behind one jump host (network namespaces) against ssh -J and against ssh
# through a ControlMaster on the jump host, at parallelism 32. Needs root.
bench-jump: deps-bench build
	Benchmarks/ssh/jump.sh $(FWCTL) .build/bench-jump

# The reverse tunnel on loopback: iperf3 direct / fwtunnel TLS off and on / two chained socat relays / ssh -R,
# short connections per second, time to first byte with and without the warm pool, RSS idle and at 1,000
# connections (see BENCHMARKS.md). Needs root (it runs sshd).
bench-tunnel: deps-bench
	$(SWIFT) build -c release $(SWIFT_BUILD_FLAGS) --product fwtunnel-home
	$(SWIFT) build -c release $(SWIFT_BUILD_FLAGS) --product fwtunnel-work
	Benchmarks/tunnel/run.sh $(BUILD_DIR) .build/bench-tunnel

# Parse and merge a generated 10,000-host inventory: fwctl against ansible-inventory on the same files.
bench-inventory: deps-bench build
	@scripts/ensure-venv $(PY_ANSIBLE)
	scripts/bench-inventory $(FWCTL)

# Render a generated 10,000-host, 200-group fleet (own targets, then each target for all), and Aerleon generating
# the same rules for 100 of its hosts; ms per host and ratios. Outputs go to /dev/shm (see BENCHMARKS.md).
bench-render: deps-bench build
	@scripts/ensure-venv $(PY_AERLEON)
	scripts/bench-render $(FWCTL)

# Fuzzing: each target is an executable of the Fuzz/ package, built with libFuzzer, run for FUZZ_SECONDS.
# New corpus entries go to Fuzz/corpus-NAME/ and crashes to Fuzz/crashes/ (both git-ignored); the seeds in
# Fuzz/corpus/NAME/ are committed. A crash becomes a regression test (see the target's test folder).
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := $(SWIFT) build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library

fuzz: fuzz-template fuzz-inventory fuzz-policy

fuzz-template: deps
	$(FUZZ_BUILD) --product FuzzTemplate
	@mkdir -p Fuzz/corpus-template Fuzz/crashes
	Fuzz/.build/release/FuzzTemplate Fuzz/corpus-template Fuzz/corpus/template -dict=Fuzz/template.dict \
		-max_total_time=$(FUZZ_SECONDS) -timeout=5 -artifact_prefix=Fuzz/crashes/template-

fuzz-inventory: deps
	$(FUZZ_BUILD) --product FuzzInventoryINI
	@mkdir -p Fuzz/crashes Fuzz/corpus-inventory-ini
	Fuzz/.build/release/FuzzInventoryINI -max_total_time=$(FUZZ_SECONDS) -timeout=5 -dict=Fuzz/inventory-ini.dict \
		-artifact_prefix=Fuzz/crashes/inventory-ini- Fuzz/corpus-inventory-ini Fuzz/corpus/inventory-ini

# The policy compiler: inventory JSON in, every host rendered through templates/; every output line must come from
# a template line and every distinct file must load with the real tools. `unshare --net` gives the fuzzer a network
# namespace of its own (root; it ends with the process): nothing is ever loaded into this machine's netfilter.
fuzz-policy: deps-test
	$(FUZZ_BUILD) --product FuzzPolicy
	@mkdir -p Fuzz/crashes Fuzz/corpus-policy
	unshare --net -- Fuzz/.build/release/FuzzPolicy -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=4096 -dict=Fuzz/policy.dict \
		-artifact_prefix=Fuzz/crashes/policy- Fuzz/corpus-policy Fuzz/corpus/policy

clean:
	rm -rf .build $(OUT)
