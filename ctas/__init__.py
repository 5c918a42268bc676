"""CTAs, playbooks, tasks, chatter, cockpit."""
