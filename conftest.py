"""The root conftest: the pytest plugins tinyml's own suite runs with.

``tinyml.testing.plugin`` gives the ``backend`` and ``backend32`` fixtures, exactly as a user's
suite gets them; ``pytester`` lets tests/test_plugin.py run a user's suite in a sandbox.
"""

pytest_plugins = ["tinyml.testing.plugin", "pytester"]
