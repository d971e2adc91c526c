"""pyNN.s2 on a given machine description (argv[1]): the single-neuron example of
tests/pynn/example_pynn.py, its spike times printed as JSON. integration_slurm runs it inside a
SLURM job, where s2ctl (which pyNN.s2 runs) sees only the job's boards and uses its key."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "pynn"))
import s2_pynn_finder  # noqa: E402,F401  (makes `import pyNN.s2` find python/pyNN_s2)
import pyNN.s2 as sim  # noqa: E402
import example_pynn  # noqa: E402

setup = sim.setup
sim.setup = lambda **kw: setup(machine=sys.argv[1], **kw)
print(json.dumps(example_pynn.single_neurons(sim), sort_keys=True))
