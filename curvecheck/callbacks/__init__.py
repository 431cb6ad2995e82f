"""Early stopping during training with curvecheck's rules, and the diagnostics at the end.

- :mod:`curvecheck.callbacks.keras`: ``CurvecheckStopping``, a Keras 3 callback
  (``pip install curvecheck[keras]``).
- :mod:`curvecheck.callbacks.lightning`: ``CurvecheckStopping``, a Lightning callback
  (``pip install curvecheck[lightning]``).

Both drive the same rule objects as ``curvecheck recommend-stop`` (:mod:`curvecheck.stopping`),
so the callback stops at the epoch a replay of the finished log names. The framework is imported
only by its own module.
"""
