"""The ``proctor`` command line: the processes the images run and the user's commands."""
