import { UpstreamError } from '../../upstream/error';
import type { Budget, RetryPolicy } from '../../upstream/policy';
import { requestJson } from '../../upstream/request';
import type { Secrets } from '../vault/providers/types';

export interface CatalogueItem {
  id: number;
  title: string;
  price?: { amount?: string; currency_code?: string } | null;
  brand_title?: string | null;
  size_title?: string | null;
  url?: string | null;
}

export interface CataloguePage {
  items: CatalogueItem[];
  pagination?: { current_page?: number; total_pages?: number; total_entries?: number; per_page?: number };
}

export const PER_PAGE = 96;

/** One page of Vinted's catalogue search (svc-catalogue, since September 2026) under a web session. */
export async function fetchCataloguePage(opts: {
  apiUrl: string;
  secrets: Secrets;
  query: string;
  page: number;
  budget: Budget;
  policy: RetryPolicy;
}): Promise<CataloguePage> {
  const url = new URL(`${opts.apiUrl}/svc-catalogue/items`);
  url.searchParams.set('search_text', opts.query);
  url.searchParams.set('page', String(opts.page));
  url.searchParams.set('per_page', String(PER_PAGE));
  const body = await requestJson<CataloguePage>({
    service: 'Vinted',
    url: url.toString(),
    init: {
      headers: {
        Accept: 'application/json',
        Authorization: `Bearer ${opts.secrets.access_token_web}`,
        'x-anon-id': opts.secrets.anon_id ?? '',
      },
    },
    budget: opts.budget,
    policy: opts.policy,
  });
  if (!Array.isArray(body.items)) throw new UpstreamError('Vinted', 502, 'Vinted sent a catalogue page without items');
  return body;
}
