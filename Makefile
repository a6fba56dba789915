# ucs: make run (start the demo server), make test (lint, type-check, test), make lint.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck pytest install clean chromium sip-peers sip-proxy doc-tools media-engine edge bench bench-media bench-media-sip bench-workers

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: $(STAMP) media-engine
	$(BIN)/ucs serve --demo

# The load benchmark (bench/README.md): about 7 minutes; BENCH_QUICK=1 make bench about 75 s.
BENCH_STAMP := $(VENV)/.bench-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	rm -f $(VENV)/.bench-*
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run

# The media benchmark (bench/media.py): N concurrent calls with music or recording through
# Janus, with and without ucs; about 6 minutes, BENCH_QUICK=1 about 2. Skipped without Janus.
bench-media: $(BENCH_STAMP) media-engine
	$(BIN)/python -m bench.media

# The same calls over SIP (bench/media_sip.py): a trunk, desk phones, every leg relayed by
# rtpengine, talking calls forwarded and recorded by it; about 8 minutes, BENCH_QUICK=1 about 2.
bench-media-sip: $(BENCH_STAMP) media-engine
	$(BIN)/python -m bench.media_sip

# call_load on `ucs serve --cluster --workers 2` against one worker, and a worker's failover
# (bench/workers.py): needs UCS_BENCH_POSTGRES_URL and HAProxy; about 5 minutes, BENCH_QUICK=1 2.
bench-workers: $(BENCH_STAMP) edge
	$(BIN)/python -m bench.workers

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict src/ucs

# Browser tests drive Debian's Chromium, /usr/bin/chromium (never a browser of Playwright's own,
# even when one is first on the PATH).
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing and this is not root: the browser tests will be skipped"; fi; }

# SIP tests talk to Debian's sipp (sip-tester) and baresip on loopback.
sip-peers:
	@command -v sipp >/dev/null 2>&1 && command -v baresip >/dev/null 2>&1 && command -v linphonec >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's sip-tester, baresip and linphone-cli for the SIP tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sip-tester baresip linphone-cli >/dev/null; \
	  else echo "sipp, baresip or linphonec is missing and this is not root: install sip-tester, baresip and linphone-cli"; fi; }

# The cluster's tests run HAProxy with deploy/haproxy.cfg (Debian's haproxy); the service stays off.
edge:
	@command -v haproxy >/dev/null 2>&1 || test -x /usr/sbin/haproxy || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's haproxy for the cluster tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; \
	    systemctl disable --now haproxy >/dev/null 2>&1 || true; \
	  else echo "haproxy is missing and this is not root: the cluster's HAProxy test is skipped"; fi; }

# The cluster's SIP tests run Kamailio with deploy/kamailio.cfg (Debian's kamailio: dispatcher,
# uac_redirect); the service stays off.
sip-proxy:
	@command -v kamailio >/dev/null 2>&1 || test -x /usr/sbin/kamailio || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's kamailio for the cluster's SIP tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kamailio >/dev/null; \
	    systemctl disable --now kamailio >/dev/null 2>&1 || true; \
	  else echo "kamailio is missing and this is not root: the cluster's SIP tests are skipped"; fi; }

# docs/api.md's SSO recipes are run in Node.js and PHP, and the component's TypeScript
# declarations are compiled by tsc (the npm registry's typescript, kept in .venv/node); the
# browser tests check every screen with axe-core (the npm registry's, injected by the tests).
TYPESCRIPT := 5.9.3
TSC_STAMP  := $(VENV)/node/.typescript-$(TYPESCRIPT)
AXE_CORE   := 4.14.1
AXE_STAMP  := $(VENV)/node/.axe-core-$(AXE_CORE)
doc-tools:
	@# Only what is missing: a machine's own Node.js (e.g. NodeSource's, npm inside) conflicts
	@# with Debian's npm package.
	@missing=""; \
	  command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	  command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	  command -v php >/dev/null 2>&1 || missing="$$missing php-cli"; \
	  [ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's$$missing for the documentation tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "this is not root: install$$missing"; fi; }
	@[ -f $(TSC_STAMP) ] || ! command -v npm >/dev/null 2>&1 || { \
	  npm install --silent --no-audit --no-fund --prefix $(VENV)/node typescript@$(TYPESCRIPT) && \
	  touch $(TSC_STAMP); }
	@[ -f $(AXE_STAMP) ] || ! command -v npm >/dev/null 2>&1 || { \
	  npm install --silent --no-audit --no-fund --prefix $(VENV)/node axe-core@$(AXE_CORE) && \
	  touch $(AXE_STAMP); }

# The media engine (docs/media.md): Debian's Janus, started by `ucs serve`, with what makes its
# sounds (espeak-ng, opus-tools, sox, the music of asterisk-moh-opsound-wav); the media tests
# run it in a network namespace of their own (iproute2's `ip netns`, as root).
MEDIA_PACKAGES := janus janus-tools iproute2 espeak-ng opus-tools sox asterisk-moh-opsound-wav rtpengine-daemon
media-engine:
	@( for c in janus janus-pp-rec rtpengine ip espeak-ng opusenc opusdec sox; do command -v $$c >/dev/null 2>&1 || exit 1; done; \
	   test -f /usr/share/asterisk/moh/macroform-the_simplicity.wav ) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's $(MEDIA_PACKAGES) for media"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(MEDIA_PACKAGES) >/dev/null; \
	  else echo "media packages are missing and this is not root: install $(MEDIA_PACKAGES); media tests skipped"; fi; }

pytest: $(STAMP) chromium sip-peers sip-proxy doc-tools media-engine edge
	$(BIN)/pytest -n auto -q --durations=15

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
