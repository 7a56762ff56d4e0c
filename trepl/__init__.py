"""trepl: a TREPL-style evaluator (`Evaluator`) and its terminal front end (`th`)."""
