"""Question sets, scoring, evaluation grids, their reports and the model benchmarks."""
