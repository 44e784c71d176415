"""The user's configuration: [tool.netspec] settings and `# noqa` comments."""
