"""Smile mode (``--mode smile``): a group still when every face in view smiles.

    trigger.py  ``SmileTrigger`` and ``[trigger]``: N frames above a threshold, then a cooldown
    capture.py  ``CaptureWriter`` and ``[capture]``: atomic JPEG + sidecar, a disk budget
    camera.py   ``SmileCamera``: the stage after ``Pipeline.process`` that feeds the trigger and
                saves the still, marking the frame's result with ``capture`` for the sinks

Import the modules themselves (``from edge.smile.camera import SmileCamera``): the config
imports ``trigger`` and ``capture`` for their sections, and nothing else loads with them.
"""
