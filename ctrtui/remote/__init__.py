"""Local side of ctrtui on remote hosts: the ssh transport, the channel to the agent."""
