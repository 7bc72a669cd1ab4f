/** Which page of a listing, from 1, and how many items it holds. */
export interface PageRequest {
  page: number;
  limit: number;
}
