# dynamo-c: the two quick-start commands are `make run` and `make test`.
# Both set up what is missing (scripts/bootstrap), build, and go.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 10

.PHONY: all build asan bootstrap run test unit fuzz bench clean

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# clang with AddressSanitizer + UndefinedBehaviorSanitizer, and the libFuzzer targets.
$(ASAN_BUILD)/CMakeCache.txt:
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDYN_SANITIZE=ON -DDYN_FUZZ=ON

asan: $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

run: bootstrap build
	@scripts/run-main

test: bootstrap build asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --output-on-failure -L unit -j $(JOBS)
	@scripts/fuzz-all $(ASAN_BUILD) $(FUZZ_SECONDS)

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit -j $(JOBS)

fuzz: asan
	@scripts/fuzz-all $(ASAN_BUILD) 60

bench: build
	@for b in $(BUILD)/bench_*; do echo "== $$b"; $$b || exit 1; done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
