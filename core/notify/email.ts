import nodemailer, { type Transporter } from 'nodemailer';
import type { EventsConfig } from '../config/events-schema';
import { FluxgateError } from '../errors';
import type { FluxgateEvent } from '../store/event-types';
import { formatMail } from './email-format';
import type { SendResult } from './webhook';

type EmailConfig = NonNullable<EventsConfig['email']>;

/** The SMTP side: one nodemailer transport, one mail per event or per digest. */
export class EmailChannel {
  private readonly transport: Transporter;

  constructor(private readonly config: EmailConfig, timeoutMs: number) {
    const { smtp } = config;
    // TLS as the port implies: 465 implicit TLS, 587 STARTTLS required, others STARTTLS when offered.
    const tls = smtp.tls === 'auto' ? (smtp.port === 465 ? 'implicit' : smtp.port === 587 ? 'starttls' : 'opportunistic') : smtp.tls;
    const password = smtp.passwordEnv ? process.env[smtp.passwordEnv] : smtp.password;
    if (smtp.passwordEnv && password === undefined) {
      throw new FluxgateError('FG_CONFIG', `events.email.smtp.passwordEnv names ${smtp.passwordEnv}, which is not set in the environment`);
    }
    this.transport = nodemailer.createTransport({
      host: smtp.host, port: smtp.port, secure: tls === 'implicit', requireTLS: tls === 'starttls', ignoreTLS: tls === 'none',
      auth: smtp.user ? { user: smtp.user, pass: password } : undefined,
      connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs,
    });
  }

  async send(to: string[], events: FluxgateEvent[]): Promise<SendResult> {
    const mail = formatMail(events);
    try {
      await this.transport.sendMail({ from: this.config.from, to, subject: mail.subject, text: mail.text, html: mail.html });
      return { ok: true, status: null };
    } catch (err) {
      const e = err as Error & { responseCode?: number };
      return { ok: false, status: e.responseCode ?? null, error: `SMTP ${this.config.smtp.host}:${this.config.smtp.port} refused the mail to ${to.join(', ')}: ${e.message}` };
    }
  }

  close(): void { this.transport.close(); }
}
