# The two commands a newcomer needs (see README):
#   make serve   install what is missing, build the page and serve it on http://127.0.0.1:8080
#   make test    install what is missing and run every check CI runs

.PHONY: setup serve test release

setup:
	@scripts/setup.sh

serve: setup
	PATH="$$HOME/.cargo/bin:$$PATH" trunk serve

test: setup
	@scripts/test.sh

# Optimised page in dist/ (wasm-opt from npm's binaryen@132 when on PATH; never Debian's).
release: setup
	PATH="$$HOME/.cargo/bin:$$PATH" trunk build --release
