"""Stand-ins for a graph's outside edges, for tests of graphs and of the platform that runs them."""
