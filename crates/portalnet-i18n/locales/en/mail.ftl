# E-mail the portal sends. Variables: $portal (portal name), $title (task title),
# $by / $author (a person's name), $count (a number: plural forms apply).

## Dates and times: $year, $month (1–12), $day, $mm and $dd (zero-padded), $time (HH:MM, UTC).
datetime = { $year }-{ $mm }-{ $dd } { $time } UTC

## Invitation of an extranet user (R4)
invite-subject = Invitation to { $portal }
invite-subject-group = Invitation to { $group } on { $portal }
invite-hello = Hello,
invite-body = { $inviter } has invited you to join { $portal } as an external user.
invite-body-group = { $inviter } has invited you to join the group "{ $group }" on { $portal }.
invite-open-link = To accept, open this link:
invite-accept = Accept the invitation
invite-or-cli = Or, with the portalctl command-line tool, run:
invite-your-name = Your Name
invite-valid-until = This invitation is valid until { $expires }.
invite-ignore = If you did not expect it, you can ignore this e-mail.

## Task notices to e-mail participants (R21–R23)
notice-added = { $by } added you to the task "{ $title }" as { $role ->
        [responsible] responsible
        [co-executor] co-executor
       *[observer] observer
    }.
notice-status-line = Status: { $status }
notice-deadline-line = Deadline: { $deadline }
notice-files = { $count ->
        [one] The task has { $count } file.
       *[other] The task has { $count } files.
    }
notice-comment = { $author } commented:
notice-status-changed = { $by } changed the status from { $from } to { $to }.
notice-deadline-changed = { $by } changed the deadline from { $from } to { $to }.
notice-no-deadline = none
notice-task-link = The task: { $url }
notice-open-task = Open the task
notice-reply-hint = Reply to this message to comment on the task; write above the quoted text.

## Task statuses
status-new = new
status-in-progress = in progress
status-awaiting-control = awaiting control
status-completed = completed
status-deferred = deferred
