"""The chatter: comments on a CTA; every @username mentioned is told at once."""

from __future__ import annotations

import re
import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from csrisk import clock, events
from csrisk.models import User
from csrisk.notifications import notify
from csrisk.roles import Role
from ctas.models import Comment, Cta
from ctas.services.common import check_can_work, cta_url

MENTION = re.compile(r"(?<![\w.])@([\w.+-]+)")


def comment_add(*, cta: Cta, by: User, body: str, submission: uuid.UUID | None = None) -> Comment:
    """Add to the chatter; every @username mentioned is notified at once. A form's
    ``submission`` token posted again returns the comment it added the first time."""
    check_can_work(by, cta)
    if submission is not None:
        done = Comment.objects.filter(author=by, submission=submission).first()
        if done is not None:
            return done
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write something."})
    if len(body) > 5000:
        raise ValidationError({"body": "Keep a comment under 5,000 characters."})
    names = {m.rstrip(".") for m in MENTION.findall(body)}
    mentioned = list(
        User.objects.filter(username__in=names, is_active=True).exclude(role=Role.INTEGRATION)
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                comment = Comment.objects.create(
                    cta=cta, author=by, body=body, created_at=clock.now(), submission=submission
                )
        except IntegrityError:
            if submission is None:
                raise
            return Comment.objects.get(author=by, submission=submission)
        comment.mentions.set(mentioned)
        Cta.objects.filter(pk=cta.pk).update(updated_at=comment.created_at)
        events.emit(
            events.comment_added,
            cta_id=cta.pk,
            comment_id=comment.pk,
            by_id=by.pk,
            mentioned_ids=[p.pk for p in mentioned],
        )
    for person in mentioned:
        if person.pk == by.pk:
            continue
        transaction.on_commit(
            lambda person=person: notify(
                user=person,
                kind="mention",
                title=f"{by.get_full_name() or by.username} mentioned you on {cta.account.name}",
                body=body[:500],
                url=cta_url(cta),
                dedupe_key=f"mention:{comment.pk}:{person.pk}",
            )
        )
    return comment
