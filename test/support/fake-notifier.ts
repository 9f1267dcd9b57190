// The notices topic of the in-memory model: every published notice, parsed, in order; it can be made to fail.
import type { NoticeBody } from '../../deploy-functions/core/notices';
import type { NotifierPort } from '../../deploy-functions/core/ports';

/** A published notice, with its body parsed. */
export interface PublishedNotice {
  readonly subject: string;
  readonly body: NoticeBody;
}

/** Records what the deployment functions publish; `failing` makes every publish throw (an SNS or KMS outage). */
export class FakeNotifier implements NotifierPort {
  readonly published: PublishedNotice[] = [];
  failing = false;

  async publish(notice: { readonly subject: string; readonly message: string }): Promise<void> {
    if (this.failing) throw new Error('SNS Publish failed: KMSAccessDeniedException (injected)');
    this.published.push({ subject: notice.subject, body: JSON.parse(notice.message) as NoticeBody });
  }

  /** The notices of rollbacks (not of failed events). */
  rollbacks(): PublishedNotice[] {
    return this.published.filter((n) => n.body.kind === 'ROLLED_BACK');
  }
}
