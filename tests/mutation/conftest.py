# The mutation script is run by hand (or weekly), never collected by the test suite.
collect_ignore = ["run_mutations.py"]
