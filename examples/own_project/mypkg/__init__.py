"""mypkg: a project of your own that uses fnact (docs/how-to/use-fnact-in-your-own-project.md)."""
