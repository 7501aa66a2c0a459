"""The differential ("compat") suite: the same command line under real socat and pysocat.

scenarios.py             the table of scenarios (data)
intended_differences.py  the one list of intended differences, each with its reason
runner.py                runs a scenario under both programs and compares;
                         `python -m compat.runner` prints a summary table
"""
