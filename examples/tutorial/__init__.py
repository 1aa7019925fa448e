"""The tutorial's app (docs/tutorial.md): welcome new team members by name."""
