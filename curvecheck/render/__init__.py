"""Renderers turn reports into text; they never compute verdicts."""
