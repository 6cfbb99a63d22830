"""The demo estate's traffic: a deterministic model of its requests, and a generator that puts them.

See docs/sandbox.md. model.py reads the call graph from the services' `traffic:` blocks;
rates.py is the daily pattern; simulate.py walks a window of requests through the graph;
metrics.py and traces.py turn a window into CloudWatch data and X-Ray segments; emit.py puts
them; saga.py runs the order saga's executions; history.py plans the days before now;
generator.py is the loop `python manage.py sandbox_traffic` runs.
"""
