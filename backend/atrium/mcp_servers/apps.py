from django.apps import AppConfig


class McpServersConfig(AppConfig):
    name = "atrium.mcp_servers"
    label = "mcp_servers"
    verbose_name = "MCP servers"
