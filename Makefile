# Convenience aliases; ./run does the work (and the set-up, idempotently).
.PHONY: demo test bench clean
demo:
	./run demo
test:
	./run test
bench:
	./run bench
clean:
	rm -rf .venv build src/*.egg-info
