# The portal's web pages: the invitation page and the task page of e-mail participants.

## Invitation page
page-invitation = Invitation
page-invited = You are invited to { $portal } as an external (extranet) user, as { $email }.
page-invited-group = You are invited to the group { $group } on { $portal } as an external (extranet) user, as { $email }.
page-valid-until = The invitation is valid until { $expires }.
page-your-name = Your name
page-login-optional = Login (optional)
page-accept = Accept the invitation
page-accepted = Invitation accepted
page-welcome = Welcome, { $name }. You are now an extranet user of { $portal } with the login { $login }.
page-token-once = Your API token (shown once; keep it secret):
page-use-token = Use it with portalctl:

## Task page
page-task = Task
page-task-meta = { $portal } · task { $id }
page-status = Status:
page-deadline = deadline { $deadline }
page-people = People
page-creator = Creator: { $name }
page-responsible = Responsible: { $name }
page-co-executor = Co-executor: { $name }
page-observer = Observer: { $name }
page-files = Files
page-file-size = { $size ->
        [one] { $size } byte
       *[other] { $size } bytes
    }
page-comments = Comments
page-add-comment = Add a comment
page-comment-as = You comment as { $email }.
page-post-comment = Post comment
page-more-comments = Later comments →
page-first-comments = ← First comments
