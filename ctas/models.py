"""CTAs, playbooks, tasks, chatter, cockpit — models arrive with their issue."""
